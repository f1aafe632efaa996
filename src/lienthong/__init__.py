"""lienthong — open-source national e-document exchange (edXML, QCVN 102:2016)."""

__version__ = "0.1.0"
