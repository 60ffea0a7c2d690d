// Delivery reports pushed by a cloud SMS provider, for a server the provider can reach
// (CARE_PUBLIC_URL); behind NAT the same reports are pulled instead (cloud-receipts.ts), and
// pulling goes on either way. `POST /api/v1/sms/receipts/{provider}/{secret}` takes
// - Alibaba Cloud's SmsReport push: a JSON array of { biz_id, success, err_code, report_time, ... },
//   answered { code: 0, msg } as its document asks;
// - Tencent Cloud's status callback: a JSON array of { sid, report_status SUCCESS|FAIL,
//   description, errmsg, user_receive_time, ... }, answered { result: 0, errmsg: 'OK' }.
// The providers sign nothing, so: an unguessable path secret (CARE_SMS_CALLBACK_SECRET, compared in
// constant time), only the configured provider, a body limit (64 KiB, 500 reports), a rate limit
// (120 requests a minute in all), and a report only turns a notification that exists, of that
// provider, in state `sent`, delivered or failed: a forged one can at most mark a message the
// server did send. Anything else answers 404, as if there were no such address.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { ApiError } from '../http/errors.ts';
import { createWindowLimiter } from '../respond/limiter.ts';
import type { CloudReceipts } from './cloud-receipts.ts';

export interface SmsReceiptRouteOptions {
  /** The configured cloud provider and its path secret; null: no pushed reports accepted (404). */
  accept: { provider: 'aliyun' | 'tencent'; secret: string; receipts: Pick<CloudReceipts, 'report'> } | null;
  /** Requests a minute, all callers together [120]. */
  perMinute?: number;
  now?: () => number;
}

export const SMS_RECEIPT_BODY_LIMIT = 64 * 1024;
export const SMS_RECEIPT_MAX_REPORTS = 500;

const Short = (max: number) => Type.String({ maxLength: max });
/** Both providers' report fields; each provider's own are read, the rest ignored. */
const Report = Type.Object(
  {
    biz_id: Type.Optional(Short(100)),
    success: Type.Optional(Type.Boolean()),
    err_code: Type.Optional(Short(100)),
    err_msg: Type.Optional(Short(200)),
    sid: Type.Optional(Short(100)),
    report_status: Type.Optional(Short(20)),
    description: Type.Optional(Short(200)),
    errmsg: Type.Optional(Short(200)),
  },
  { additionalProperties: true },
);
const Answer = Type.Object({
  code: Type.Optional(Type.Integer()),
  msg: Type.Optional(Type.String()),
  result: Type.Optional(Type.Integer()),
  errmsg: Type.Optional(Type.String()),
});

const digest = (s: string) => createHash('sha256').update(s).digest();

export const smsReceiptRoutes: FastifyPluginAsync<SmsReceiptRouteOptions> = async (plain, opts) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const limiter = createWindowLimiter({ max: opts.perMinute ?? 120, windowMs: 60_000, maxKeys: 1, now: opts.now ?? Date.now });
  const secret = opts.accept ? digest(opts.accept.secret) : null;

  app.post(
    '/api/v1/sms/receipts/:provider/:secret',
    {
      bodyLimit: SMS_RECEIPT_BODY_LIMIT,
      schema: {
        tags: ['sms'],
        summary: "A cloud SMS provider's pushed delivery reports (no login: the path secret is the credential)",
        params: Type.Object({ provider: Type.Enum(['aliyun', 'tencent'] as const), secret: Type.String({ maxLength: 200 }) }),
        body: Type.Array(Report, { maxItems: SMS_RECEIPT_MAX_REPORTS }),
        response: { 200: Answer },
      },
    },
    async (req) => {
      const a = opts.accept;
      if (!a || !secret || req.params.provider !== a.provider || !timingSafeEqual(digest(req.params.secret), secret))
        throw new ApiError(404, 'NOT_FOUND', 'no such address');
      if (!limiter.hit('all')) throw new ApiError(429, 'RATE_LIMITED', 'too many delivery report requests');
      for (const r of req.body) {
        if (a.provider === 'aliyun') {
          if (!r.biz_id || typeof r.success !== 'boolean') continue;
          const error = r.success ? null : `Alibaba Cloud SMS: ${r.err_code || 'not delivered'}`;
          await a.receipts.report(`aliyun:${r.biz_id}`, r.success ? 'delivered' : 'failed', error);
        } else {
          if (!r.sid || (r.report_status !== 'SUCCESS' && r.report_status !== 'FAIL')) continue;
          const ok = r.report_status === 'SUCCESS';
          const error = ok ? null : `Tencent Cloud SMS: FAIL ${r.description ?? r.errmsg ?? ''}`.trim();
          await a.receipts.report(`tencent:${r.sid}`, ok ? 'delivered' : 'failed', error);
        }
      }
      return a.provider === 'aliyun' ? { code: 0, msg: '成功' } : { result: 0, errmsg: 'OK' };
    },
  );
};
