// Shapes of the registry answers the pages read (server/http/registry.ts).
import type { RegistryDevice } from '../lib/health.ts';

export interface Site {
  id: string;
  name: string;
  kind: string;
  timezone: string;
}

export interface Resident {
  id: string;
  siteId: string;
  name: string;
  room: string;
  bed: string | null;
  settings: unknown;
}

export interface Gateway {
  id: string;
  siteId: string;
  name: string;
  state: string;
  lastSeen: string | null;
}

export type Device = RegistryDevice;
