import Type from 'typebox';

export const REPLICA_STATES = ['alive', 'stopped', 'dead'] as const;

export const Replica = Type.Object({
  id: Type.String({ description: 'random at each start of a coordinator process' }),
  hostname: Type.String(),
  pid: Type.Integer(),
  url: Type.Union([Type.String(), Type.Null()], { description: 'where it serves, when it was told' }),
  version: Type.String(),
  state: Type.Enum<[...typeof REPLICA_STATES]>([...REPLICA_STATES], {
    description: 'alive: seen within aliveWindowMs; stopped: closed cleanly; dead: neither (killed, paused, cut off)',
  }),
  self: Type.Boolean({ description: 'the replica answering this request' }),
  startedAt: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
  stoppedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  singletons: Type.Array(Type.String(), { description: 'the singleton loops whose unexpired lease it holds' }),
});

export const Singleton = Type.Object({
  name: Type.String({ description: 'amqp-publisher, webhooks' }),
  holder: Type.String({ description: 'the replica id that holds or last held the lease' }),
  term: Type.Integer({
    minimum: 1,
    description: 'grows at every takeover; writes fenced by an older term are refused',
  }),
  expiresAt: Type.String({ format: 'date-time' }),
  acquiredAt: Type.String({ format: 'date-time' }),
  held: Type.Boolean({ description: 'false once the lease ran out: the next replica to ask takes it over' }),
});

export const ReplicaList = Type.Object({
  now: Type.String({ format: 'date-time', description: "the store's time (the database's clock on PostgreSQL)" }),
  aliveWindowMs: Type.Integer({ minimum: 0 }),
  replicas: Type.Array(Replica),
  singletons: Type.Array(Singleton),
});

export const HealthCheck = Type.Object({
  status: Type.Enum(['ok', 'unavailable']),
  replica: Type.String(),
  problems: Type.Array(Type.String(), { description: 'why the replica is not ready, when it is not' }),
});

export type Replica = Type.Static<typeof Replica>;
export type Singleton = Type.Static<typeof Singleton>;
export type ReplicaList = Type.Static<typeof ReplicaList>;
export type HealthCheck = Type.Static<typeof HealthCheck>;
