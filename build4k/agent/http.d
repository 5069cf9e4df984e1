build4k/agent/http.o: agent/http.c agent/http.h agent/buf.h agent/log.h \
 agent/util.h agent/xmem.h
agent/http.h:
agent/buf.h:
agent/log.h:
agent/util.h:
agent/xmem.h:
