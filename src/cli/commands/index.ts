/** Every command, in the order help lists them. */
import type { Command } from '../command.js';
import { dashboard } from './dashboard.js';
import { list } from './list.js';
import { logs } from './logs.js';
import { rerun } from './rerun.js';
import { show } from './show.js';
import { stats } from './stats.js';
import { stop } from './stop.js';

export const COMMANDS: readonly Command[] = [list, show, logs, stop, rerun, stats, dashboard];
