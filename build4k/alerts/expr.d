build4k/alerts/expr.o: alerts/expr.c alerts/expr.h agent/buf.h \
 agent/util.h agent/xmem.h
alerts/expr.h:
agent/buf.h:
agent/util.h:
agent/xmem.h:
