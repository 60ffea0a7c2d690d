// Shapes of the registry answers the pages read: the server's own response schemas
// (protocol/api.ts), as types only, so the bundle carries no TypeBox.
export type { Device, Gateway, Resident, Site } from '../../../protocol/api.ts';
