build4k/agent/xmem.o: agent/xmem.c agent/xmem.h
agent/xmem.h:
