"""The outbox: the durable list of what a hub still has to do with a message after intake.

One row per message and *action*: ``dispatch`` (make local deliveries available),
``relay:<peer>`` (post the package to a peer hub) or ``push:<system>`` (post it to an agency
system's callback URL). :mod:`.queue` owns the rows (states, actions, claims, settling, dead
letters, replay); :mod:`.dispatch` handles local deliveries; :mod:`.relay` posts relays and
pushes outside any transaction.
"""
