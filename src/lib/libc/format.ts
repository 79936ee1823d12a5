/**
 * `libc/format`: the text formatting the host CLI uses, for programs that must print
 * exactly what it prints (`service`, `ps`, `ls -l` tables). Pure functions only.
 */
export { formatDuration, formatFaultTable, formatFiResult, formatPolicy, formatServiceTable, formatTable } from '../table.js';
export { formatHistory, formatUpdateResult, updateExitCode } from '../update-format.js';
export { FI_USAGE, parseDaemonArgs, parseFiArgs, parsePolicyArgs, parseUpdateArgs, POLICY_USAGE, splitWords, UPDATE_USAGE } from '../service-args.js';
