"""Clients of the national e-document exchange platform (VDXP) and of compatible hubs."""
