build4k/alerts/labels.o: alerts/labels.c alerts/labels.h agent/buf.h
alerts/labels.h:
agent/buf.h:
