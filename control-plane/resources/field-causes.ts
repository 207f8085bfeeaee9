// Field error causes worded exactly like apimachinery's field.Error, so kubectl prints familiar text.
import type { StatusCause } from '../../api/errors.js';

const show = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? 'null');

export const required = (field: string, detail?: string): StatusCause =>
  ({ field, reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value' });

export const invalid = (field: string, value: unknown, detail: string): StatusCause =>
  ({ field, reason: 'FieldValueInvalid', message: `Invalid value: ${show(value)}: ${detail}` });

export const notSupported = (field: string, value: unknown, supported: string[]): StatusCause => ({
  field, reason: 'FieldValueNotSupported',
  message: `Unsupported value: ${show(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
});

export const duplicate = (field: string, value: unknown): StatusCause =>
  ({ field, reason: 'FieldValueDuplicate', message: `Duplicate value: ${show(value)}` });

export const forbidden = (field: string, detail: string): StatusCause =>
  ({ field, reason: 'FieldValueForbidden', message: `Forbidden: ${detail}` });

export const notFound = (field: string, value: unknown): StatusCause =>
  ({ field, reason: 'FieldValueNotFound', message: `Not found: ${show(value)}` });
