import {
  compileEventFilter,
  type EventFilter,
  eventAttributes,
  type FilterableEvent,
  routingKeyOf,
  type SwitchyardEvent,
} from '@switchyard/protocol';
import { iso } from '../store/mappers.ts';
import type { EventRecord } from '../store/port.ts';

/** An event ready to hand out: what filters look at, and its JSON, serialized once for every reader. */
export interface LoggedEvent extends FilterableEvent {
  event: SwitchyardEvent;
  json: string;
}

/** A filter as given (its columns rule rows of history out before they are parsed) and compiled. */
export interface EventSelection {
  filter: EventFilter;
  matches(event: FilterableEvent): boolean;
}

export function selectEvents(filter: EventFilter): EventSelection {
  return { filter, matches: compileEventFilter(filter) };
}

export interface EventPage {
  events: LoggedEvent[];
  /** Every event with an id up to this one has been looked at; resume after it. */
  cursor: number;
}

/** A committed event row as readers get it, its JSON serialized once. */
export function toLoggedEvent(row: EventRecord): LoggedEvent {
  const data: unknown = JSON.parse(row.data);
  const attributes = eventAttributes(row.type, data);
  const routingKey = routingKeyOf(row.type, attributes);
  const event = { id: row.id, type: row.type, time: iso(row.created_at), routingKey, data } as SwitchyardEvent;
  return {
    event,
    attributes,
    type: row.type,
    routingKey,
    routingWords: routingKey.split('.'),
    json: JSON.stringify(event),
  };
}
