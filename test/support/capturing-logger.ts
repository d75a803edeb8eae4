import type { LoggerService } from '@nestjs/common';

/** One captured log call: its level and its arguments joined into one text. */
export interface LogEntry {
  readonly level: string;
  readonly text: string;
}

/** Strings as they are, errors with name, message and stack, anything else as JSON. */
function format(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return `${value.name} ${value.message} ${value.stack}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value); // circular or BigInt: still record something
  }
}

/**
 * A Nest `LoggerService` that records every call of every level (log, error, warn, debug,
 * verbose, fatal), as the most verbose production logger would, so tests can check what was logged.
 */
export class CapturingLogger implements LoggerService {
  /** Every call, in order. */
  readonly entries: LogEntry[] = [];

  /** Every call as one line, `<level> <text>`, in order (a new array on each read). */
  get lines(): string[] {
    return this.entries.map((e) => `${e.level} ${e.text}`);
  }

  /** Forgets everything recorded so far. */
  clear(): void {
    this.entries.length = 0;
  }

  log(message: unknown, ...rest: unknown[]): void { this.record('log', message, rest); }
  error(message: unknown, ...rest: unknown[]): void { this.record('error', message, rest); }
  warn(message: unknown, ...rest: unknown[]): void { this.record('warn', message, rest); }
  debug(message: unknown, ...rest: unknown[]): void { this.record('debug', message, rest); }
  verbose(message: unknown, ...rest: unknown[]): void { this.record('verbose', message, rest); }
  fatal(message: unknown, ...rest: unknown[]): void { this.record('fatal', message, rest); }

  private record(level: string, message: unknown, rest: unknown[]): void {
    this.entries.push({ level, text: [message, ...rest].map(format).join(' ') });
  }
}
