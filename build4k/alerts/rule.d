build4k/alerts/rule.o: alerts/rule.c alerts/rule.h agent/buf.h \
 agent/config.h alerts/expr.h agent/util.h agent/xmem.h
alerts/rule.h:
agent/buf.h:
agent/config.h:
alerts/expr.h:
agent/util.h:
agent/xmem.h:
