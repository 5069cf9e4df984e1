build4k/agent/strmap.o: agent/strmap.c agent/strmap.h agent/xmem.h
agent/strmap.h:
agent/xmem.h:
