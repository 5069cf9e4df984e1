build4k/agent/event.o: agent/event.c agent/event.h agent/bmq.h \
 agent/buf.h agent/util.h
agent/event.h:
agent/bmq.h:
agent/buf.h:
agent/util.h:
