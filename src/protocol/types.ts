/**
 * The vocabulary of the wire protocol, shared by the server, the stores and the CLI so that every
 * side speaks of commands and replies in the same terms (docs/protocol.md is the rule book).
 */

export type CommandName = 'INDEX' | 'REMOVE' | 'QUERY';

export interface IndexCommand {
  readonly kind: 'INDEX';
  readonly name: string;
  /** Distinct dependency names, in first-seen order. */
  readonly deps: readonly string[];
}

export interface RemoveCommand {
  readonly kind: 'REMOVE';
  readonly name: string;
}

export interface QueryCommand {
  readonly kind: 'QUERY';
  readonly name: string;
}

export type Command = IndexCommand | RemoveCommand | QueryCommand;

export type Reply = 'OK' | 'FAIL' | 'ERROR';

/** Why a line was answered ERROR; each reason maps to a rule in docs/protocol.md. */
export type ProtocolErrorReason =
  | 'field-count'
  | 'unknown-command'
  | 'invalid-name'
  | 'invalid-dependency'
  | 'unexpected-dependencies'
  | 'self-dependency'
  | 'line-too-long';

export interface ProtocolError {
  readonly kind: 'error';
  readonly reason: ProtocolErrorReason;
}

export type ParsedLine = Command | ProtocolError;

export const WIRE = {
  LF: 0x0a, // \n
  CR: 0x0d, // \r
  FIELD_SEPARATOR: '|',
  DEPENDENCY_SEPARATOR: ',',
} as const;

/** [P-NAME-1] The longest package name, in characters. */
export const MAX_NAME_LENGTH = 255;
