build4k/agent/arena.o: agent/arena.c agent/arena.h agent/xmem.h
agent/arena.h:
agent/xmem.h:
