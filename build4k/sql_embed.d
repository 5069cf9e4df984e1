build4k/sql_embed.o: build4k/sql_embed.c agent/sqlembed.h
agent/sqlembed.h:
