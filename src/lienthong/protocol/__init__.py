"""Wire contracts shared by servers and clients: the national platform's ``XroadVnpt-*``
signing (:mod:`.xroad`), the hop header between hubs (:mod:`.hops`), the signature of
pushes to agency systems' callbacks (:mod:`.push`) and the REST v1 shapes (:mod:`.rest`).

Pure: no web framework, no database. Imported by ``hub`` and ``client`` alike.
"""
