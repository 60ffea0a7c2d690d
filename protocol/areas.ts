// Homes in the community (issue 15): the areas tree, a family bed's place and contacts, and the
// community centre's board. Server routes answer these schemas; the dashboard reads their types.
import Type, { type Static, type TSchema } from 'typebox';

// Null first: the API's Ajv coerces types, and with the string or number first a null would be
// taken as "" or 0 (a cleared position would put the home at 0,0).
const Nullable = <T extends TSchema>(t: T) => Type.Union([Type.Null(), t]);

export const AREA_KINDS = ['district', 'street', 'community'] as const;
/** A phone number in E.164: + and up to 15 digits. */
export const E164 = Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$', maxLength: 16, description: 'E.164, e.g. +8613800000000' });

export const Area = Type.Object({
  id: Type.String(),
  parentId: Nullable(Type.String()),
  kind: Type.Enum(AREA_KINDS),
  name: Type.String(),
  createdAt: Type.String(),
});
export type Area = Static<typeof Area>;

export const AreaCreate = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 64 })),
    /** Required for a street (its district) and a community (its street); none for a district. */
    parentId: Type.Optional(Type.String({ maxLength: 64 })),
    kind: Type.Enum(AREA_KINDS),
    name: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type AreaCreate = Static<typeof AreaCreate>;

export const AreaPatch = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);

/** Where a site is and who answers for it. In a write, an absent field is unchanged and null clears it. */
export const SiteHomeFields = {
  areaId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  address: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500 }))),
  lat: Type.Optional(Nullable(Type.Number({ minimum: -90, maximum: 90 }))),
  lon: Type.Optional(Nullable(Type.Number({ minimum: -180, maximum: 180 }))),
  /** The user id of the grid worker (role grid_worker) responsible for the home. */
  gridWorkerId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
};
export const SiteHomeWrite = Type.Object(SiteHomeFields, { additionalProperties: false });
export type SiteHomeWrite = Static<typeof SiteHomeWrite>;

export const SiteHome = Type.Object({
  siteId: Type.String(),
  areaId: Nullable(Type.String()),
  address: Nullable(Type.String()),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
  gridWorkerId: Nullable(Type.String()),
});
export type SiteHome = Static<typeof SiteHome>;

export const FamilyContact = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    /** e.g. 女儿 (daughter), 儿子 (son), 邻居 (neighbour). */
    relation: Type.String({ minLength: 1, maxLength: 50 }),
    phone: E164,
    /** Their family login (role family), when they have one; null or absent: none. */
    userId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  },
  { additionalProperties: false },
);
export type FamilyContact = Static<typeof FamilyContact>;

export const FamilyContacts = Type.Object({ contacts: Type.Array(FamilyContact, { maxItems: 10 }) }, { additionalProperties: false });
export type FamilyContacts = Static<typeof FamilyContacts>;

/** The grid workers a home can be given (GET /api/v1/grid-workers): who they are, not how to reach them. */
export const GridWorkers = Type.Object({
  gridWorkers: Type.Array(Type.Object({ id: Type.String(), username: Type.String(), displayName: Nullable(Type.String()) })),
});
export type GridWorkers = Static<typeof GridWorkers>;

/** One home on the centre's board: where it is, who answers for it, and its most urgent open alarm. */
export const BoardHome = Type.Object({
  siteId: Type.String(),
  name: Type.String(),
  address: Nullable(Type.String()),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
  areaId: Nullable(Type.String()),
  areaName: Nullable(Type.String()),
  gridWorker: Nullable(Type.String({ description: 'display name or username' })),
  residents: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
  openAlarms: Type.Integer(),
  alarm: Nullable(
    Type.Object({
      id: Type.String(),
      type: Type.String(),
      priority: Type.String(),
      state: Type.String(),
      residentName: Nullable(Type.String()),
      raisedAt: Type.String(),
      escalationLevel: Type.Integer(),
      ackAt: Nullable(Type.String()),
      ackBy: Nullable(Type.String()),
      onSiteBy: Nullable(Type.String()),
      onSiteAt: Nullable(Type.String()),
    }),
  ),
});
export type BoardHome = Static<typeof BoardHome>;

/** Response times at one escalation level (the level an alarm was answered at), over the window. */
export const LevelKpi = Type.Object({
  level: Type.Integer(),
  name: Type.String(),
  alarms: Type.Integer(),
  accepted: Type.Integer(),
  acceptSecondsP50: Nullable(Type.Number()),
  acceptSecondsP90: Nullable(Type.Number()),
  /** Share accepted within the accept target (60 s), of those raised; null: none. */
  acceptedWithinTargetPercent: Nullable(Type.Number()),
  onSite: Type.Integer(),
  onSiteSecondsP50: Nullable(Type.Number()),
  onSiteSecondsP90: Nullable(Type.Number()),
  onSiteWithinTargetPercent: Nullable(Type.Number()),
});
export type LevelKpi = Static<typeof LevelKpi>;

export const CentreBoard = Type.Object({
  /** Tile URL template for the map; null: no tiles (markers on a plain background). */
  mapTileUrl: Nullable(Type.String()),
  from: Type.String(),
  to: Type.String(),
  targets: Type.Object({ acceptSeconds: Type.Integer(), onSiteSeconds: Type.Integer() }),
  homes: Type.Array(BoardHome),
  levels: Type.Array(LevelKpi),
});
export type CentreBoard = Static<typeof CentreBoard>;
