build4k/agent/config.o: agent/config.c agent/config.h agent/http.h \
 agent/buf.h agent/tls.h agent/log.h agent/util.h agent/xmem.h
agent/config.h:
agent/http.h:
agent/buf.h:
agent/tls.h:
agent/log.h:
agent/util.h:
agent/xmem.h:
