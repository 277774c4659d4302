import type { EventStreamOptions, SwitchyardClient, SwitchyardEvent } from '@switchyard/protocol';

export interface EventFollower {
  /** Rejects if the stream fails for good (the client retries dropped connections by itself). */
  readonly failed: Promise<never>;
  /** Ends the stream and waits for it to close. */
  stop(): Promise<void>;
}

/** Hands every event of the stream to `onEvent`, in the background, until stopped. */
export function followEvents(
  client: SwitchyardClient,
  options: Omit<EventStreamOptions, 'signal'>,
  onEvent: (event: SwitchyardEvent) => void,
): EventFollower {
  const controller = new AbortController();
  const streaming = (async () => {
    for await (const event of client.events({ ...options, signal: controller.signal })) onEvent(event);
  })();
  return {
    failed: streaming.then(() => new Promise<never>(() => {})),
    async stop() {
      controller.abort();
      await streaming.catch(() => {});
    },
  };
}
