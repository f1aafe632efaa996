"""edXML (QCVN 102:2016/BTTTT) wire format: model, safe streaming parser, builder,
validation, code lists and agency identification codes. Pure: no I/O beyond bytes/streams."""
