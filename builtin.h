/* SPDX-License-Identifier: GPL-2.0 */
/*
 * builtin.h - the subcommands.  Adding a command (git's checklist):
 *   1. <module>/cmd-<name>.c exporting int cmd_<name>(int argc, char **argv),
 *      argv[0] being the command name, returning the exit status;
 *   2. its line here and in the table in main.c;
 *   3. the file in <module>/Build;
 *   4. tests under tests/ and man/schedcast-<name>.1 whose SYNOPSIS matches -h.
 */
#ifndef SC_BUILTIN_H
#define SC_BUILTIN_H

int cmd_info(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_workload(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_script(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif /* SC_BUILTIN_H */
