/** Bounded fuzz run, second half of the registry (see bounded.ts). */
import { boundedRun } from "./bounded.js";

boundedRun(1);
