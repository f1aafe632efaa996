"""PKI: a certificate authority for organisations and people, PAdES signing and
verification of PDFs (Decree 30 presentation), XML-DSig on edXML packages, revocation."""
