/* The release, printed by `bullwatch --version` and in bullwatch_build_info. */
#ifndef AGENT_VERSION_H
#define AGENT_VERSION_H
#define BULLWATCH_VERSION "0.9.0"
#endif
