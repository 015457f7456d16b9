import { type Command, commandName, HELP_OPTION } from './command.ts';

/** `taskflow help`: every command, one line each. */
export function generalHelp(commands: readonly Command[]): string {
  const title = (c: Command): string => `${c.group} ${c.name}`.trimEnd();
  const width = Math.max(...commands.map((c) => title(c).length));
  const lines = commands.map((c) => `  ${title(c).padEnd(width)}  ${c.summary}`);
  return [
    'taskflow: inspect and tend durable runs and jobboards of taskflow-ts.',
    '',
    'Usage: taskflow COMMAND [ARGUMENTS] [OPTIONS]',
    '',
    'Commands:',
    ...lines,
    `  ${'help'.padEnd(width)}  show this help; "taskflow COMMAND --help" shows a command's options`,
    '',
    'Backends are chosen by URL: memory://, sqlite://relative.db, sqlite:///absolute.db,',
    'postgres://user@host:5432/db, and for jobboards also redis://host:6379/0.',
    'Exit status: 0 done, 1 storage error or not found, 2 bad command line;',
    '"jobs wait" and "runs resume" also exit 3 (did not succeed), 4 (dead letter), 5 (timeout).',
    'Run "taskflow --version" for the version.',
    '',
  ].join('\n');
}

/** `taskflow GROUP`: the commands of one group. */
export function groupHelp(group: string, commands: readonly Command[]): string {
  return generalHelp(commands.filter((c) => c.group === group));
}

/** `taskflow GROUP NAME --help`: usage and every option. */
export function commandHelp(command: Command): string {
  const options = Object.entries({ ...command.options, help: HELP_OPTION }).map(([name, spec]) => {
    const value = spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : '';
    return [`--${name}${value}${spec.multiple ? ' ...' : ''}`, spec.description] as const;
  });
  const width = Math.max(...options.map(([flag]) => flag.length));
  const positionals = command.positionals.map((p) => ` ${p}`).join('');
  return [
    `Usage: ${commandName(command)}${positionals} [OPTIONS]`,
    '',
    `${command.summary[0]?.toUpperCase() ?? ''}${command.summary.slice(1)}.`,
    '',
    'Options:',
    ...options.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`),
    '',
  ].join('\n');
}
