build4k/agent/tls.o: agent/tls.c agent/tls.h agent/xmem.h
agent/tls.h:
agent/xmem.h:
