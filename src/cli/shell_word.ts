/** A path as one shell word, so printed commands work when it holds spaces or quotes. */
export const shellWord = (text: string): string => (/^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);
