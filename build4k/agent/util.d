build4k/agent/util.o: agent/util.c agent/util.h
agent/util.h:
