"""The hub's HTTP edge: the app factory (:mod:`.app`), the dependencies every route shares
(:mod:`.deps`) and three thin routers — our REST API v1 (:mod:`.rest`), the national
platform's API (:mod:`.vdxp`) and the operators' admin API (:mod:`.admin`). Routes parse the
request, call the hub's services and shape the answer; the rules live in the services."""
