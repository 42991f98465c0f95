import type { RegisterCommand } from './register.js';
import { registerInspect } from './inspect.js';
import { registerVerify } from './verify.js';
import { registerProcess } from './process.js';
import { registerTime } from './time.js';
import { registerSimulate } from './simulate.js';
import { registerServe } from './serve.js';
import { registerNightlog } from './nightlog.js';
import { registerStatus } from './status.js';
import { registerRequeue } from './requeue.js';
import { registerReplay } from './replay.js';

/** A command module adds its sub-command to the program. */

export const commands: RegisterCommand[] = [registerInspect, registerVerify, registerProcess, registerTime, registerSimulate, registerServe, registerNightlog, registerStatus, registerRequeue, registerReplay];

export type { RegisterCommand } from './register.js';
