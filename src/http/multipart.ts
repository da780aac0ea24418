import busboy from 'busboy';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from './errors';

/** A multipart/form-data body: text fields and uploaded files, each by field name, in order. */
export interface MultipartBody {
  readonly fields: readonly { readonly name: string; readonly value: string }[];
  readonly files: readonly { readonly name: string; readonly data: Buffer }[];
}

const MAX_PARTS = 16;

/**
 * Parses a multipart body that was already read whole (so the route's byte limit held, with or
 * without Content-Length). Too many parts is a malformed request here, not a large one.
 */
export function parseMultipart(body: Buffer, headers: IncomingHttpHeaders): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers, limits: { parts: MAX_PARTS, fields: MAX_PARTS, files: MAX_PARTS, fieldNameSize: 64, fieldSize: body.length + 1 } });
    } catch {
      return reject(new HttpError(400, 'bad_body', 'the multipart body is malformed (no boundary)'));
    }
    const fields: { name: string; value: string }[] = [];
    const files: { name: string; data: Buffer }[] = [];
    const tooMany = () => reject(new HttpError(400, 'bad_body', `the multipart body has more than ${MAX_PARTS} parts`));
    parser.on('field', (name, value) => fields.push({ name, value }));
    const malformed = () => reject(new HttpError(400, 'bad_body', 'the multipart body is malformed'));
    parser.on('file', (name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => files.push({ name, data: Buffer.concat(chunks) }));
      // A body cut off inside a file part errors on the part's stream, not the parser's.
      stream.on('error', malformed);
    });
    parser.on('partsLimit', tooMany);
    parser.on('filesLimit', tooMany);
    parser.on('fieldsLimit', tooMany);
    parser.on('error', malformed);
    parser.on('close', () => resolve({ fields, files }));
    parser.end(body);
  });
}
