build4k/alerts/sink.o: alerts/sink.c alerts/sink.h agent/buf.h \
 agent/config.h agent/util.h agent/xmem.h
alerts/sink.h:
agent/buf.h:
agent/config.h:
agent/util.h:
agent/xmem.h:
