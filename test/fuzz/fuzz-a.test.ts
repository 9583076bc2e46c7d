/** Bounded fuzz run, first half of the registry (see bounded.ts). */
import { boundedRun } from "./bounded.js";

boundedRun(0);
