// The live feed connection: one WebSocket to /ws, reconnecting with capped backoff and `since=`
// so nothing missed is lost. The browser going offline closes the socket at once rather than
// waiting for TCP to notice, so the screen says it is not live as soon as it is not.
import { applyMessage, emptyFeed, type FeedState, parseMessage } from './lib/feed-state.ts';
import { backoffDelay, type ConnectionState, feedUrl } from './lib/reconnect.ts';

export interface LiveFeedOptions {
  token: string;
  onFeed(state: FeedState): void;
  onConnection(state: ConnectionState): void;
  /** Asked after repeated failures: resolves false when the session is no longer valid. */
  sessionValid(): Promise<boolean>;
  onSessionEnded(): void;
}

const CONNECT_TIMEOUT_MS = 5000;
const KEEPALIVE_MS = 20_000;

export function startLiveFeed(opts: LiveFeedOptions): { stop(): void } {
  let feed: FeedState = emptyFeed;
  let ws: WebSocket | null = null;
  let attempt = 0;
  let stopped = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let connectTimer: ReturnType<typeof setTimeout> | undefined;
  let keepalive: ReturnType<typeof setInterval> | undefined;
  let everConnected = false;

  const setConnection = (s: ConnectionState) => opts.onConnection(s);

  function connect() {
    clearTimeout(retryTimer);
    if (stopped) return;
    setConnection(everConnected ? 'reconnecting' : 'connecting');
    const socket = new WebSocket(feedUrl(location, opts.token, feed.seq));
    ws = socket;
    connectTimer = setTimeout(() => socket.close(), CONNECT_TIMEOUT_MS);
    socket.onopen = () => {
      clearTimeout(connectTimer);
      attempt = 0;
      everConnected = true;
      setConnection('live');
      keepalive = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send('ping'), KEEPALIVE_MS);
    };
    socket.onmessage = (ev) => {
      const msg = parseMessage(String(ev.data));
      if (!msg) return;
      const next = applyMessage(feed, msg);
      if (next !== feed) {
        feed = next;
        opts.onFeed(feed);
      }
    };
    socket.onclose = () => {
      clearTimeout(connectTimer);
      clearInterval(keepalive);
      if (ws !== socket) return;
      ws = null;
      if (stopped) return;
      everConnected = true;
      setConnection('reconnecting');
      scheduleRetry();
    };
  }

  async function scheduleRetry() {
    const delay = backoffDelay(attempt);
    attempt += 1;
    // A refused handshake looks like any other failure from a browser; ask whether the token is still good.
    if (attempt >= 3 && navigator.onLine) {
      const valid = await opts.sessionValid().catch(() => true);
      if (!valid) {
        opts.onSessionEnded();
        return;
      }
    }
    if (stopped) return;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  }

  const onOffline = () => ws?.close();
  const onOnline = () => {
    if (ws === null && !stopped) {
      attempt = 0;
      connect();
    }
  };
  window.addEventListener('offline', onOffline);
  window.addEventListener('online', onOnline);
  connect();

  return {
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(connectTimer);
      clearInterval(keepalive);
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
      ws?.close();
      ws = null;
    },
  };
}
