build4k/agent/cluster.o: agent/cluster.c agent/cluster.h agent/xmem.h
agent/cluster.h:
agent/xmem.h:
