"""The provincial shared e-office: many agencies (tenants) in one deployment, the Decree 30
incoming path, reaching hubs only through :mod:`lienthong.client`."""
