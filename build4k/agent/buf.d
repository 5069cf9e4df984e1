build4k/agent/buf.o: agent/buf.c agent/buf.h agent/xmem.h
agent/buf.h:
agent/xmem.h:
