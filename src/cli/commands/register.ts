import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** Adds one command to the program (its own module, so commands do not import the list of them). */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;
