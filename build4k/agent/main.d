build4k/agent/main.o: agent/main.c agent/cmd.h agent/config.h \
 agent/version.h
agent/cmd.h:
agent/config.h:
agent/version.h:
