/**
 * Child-process helper for the fatal-error test: a logger with a blackbox, the executive's
 * fatal handler writing `<argv[2]>/fdata`, a few records, then a broken invariant thrown
 * from a timer (as a failed `assert` deep in the core would be).
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/daemon/log/logger.js";
import { LogPriority } from "../../src/daemon/log/format.js";
import { installFatalHandler, writeBlackboxFile } from "../../src/daemon/blackbox.js";

const stateDir = process.argv[2]!;
const logger = new Logger({ syslog: null });
const log = (text: string, p: LogPriority = LogPriority.NOTICE) => logger.log("MAIN", p, text);
installFatalHandler({ log: (t) => log(t, LogPriority.ERR), dump: () => writeBlackboxFile(stateDir, logger.recent()), exitCode: 15 });
log("child started");
logger.log("TOTEM", LogPriority.DEBUG, "entering GATHER state from 15(interface change).");
setTimeout(() => assert.equal(1 + 1, 3, "sequence numbers out of order"), 10);
