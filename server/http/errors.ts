// The API's error catalogue: every refusal has a stable code and a readable message.
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
export const notFound = (what: string, id: string) => new ApiError(404, 'NOT_FOUND', `${what} ${id} not found`);
export const forbidden = (why = 'not allowed for your role') => new ApiError(403, 'FORBIDDEN', why);
export const unauthorized = (why = 'missing or invalid token') => new ApiError(401, 'UNAUTHORIZED', why);
export const conflict = (why: string) => new ApiError(409, 'CONFLICT', why);
export const badRequest = (why: string) => new ApiError(400, 'BAD_REQUEST', why);
