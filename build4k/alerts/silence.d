build4k/alerts/silence.o: alerts/silence.c alerts/silence.h agent/store.h
alerts/silence.h:
agent/store.h:
