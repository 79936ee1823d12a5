/**
 * `libc/format`: the text formatting the host CLI uses, for programs that must print
 * exactly what it prints (`service`, `ps`, `ls -l` tables). Pure functions only.
 */
export { formatDuration, formatServiceTable, formatTable } from '../table.js';
export { formatHistory, formatUpdateResult, updateExitCode } from '../update-format.js';
export { parseDaemonArgs, parseUpdateArgs, splitWords, UPDATE_USAGE } from '../service-args.js';
