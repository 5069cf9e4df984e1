build4k/agent/log.o: agent/log.c agent/log.h agent/buf.h
agent/log.h:
agent/buf.h:
