// Bot text for WXML: text and link segments (nothing is ever parsed as markup).
const URL_RE = /(https?:\/\/[^\s<>"'\u3000-\u303f\uff00-\uffef]+)/g;
const BOLD_RE = /\*\*([^*\n]+)\*\*/g;

function styled(text, out) {
  let last = 0;
  let m;
  BOLD_RE.lastIndex = 0;
  while ((m = BOLD_RE.exec(text)) !== null) {
    if (m.index > last) out.push({ type: 'text', value: text.slice(last, m.index) });
    out.push({ type: 'bold', value: m[1] });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ type: 'text', value: text.slice(last) });
}

/** Split bot text into {type: 'text'|'bold'|'link', value} segments. */
function segments(text) {
  const source = text || '';
  const out = [];
  let last = 0;
  let m;
  URL_RE.lastIndex = 0;
  while ((m = URL_RE.exec(source)) !== null) {
    const url = m[1].replace(/[.,;:!?)\]]+$/, '');
    if (m.index > last) styled(source.slice(last, m.index), out);
    out.push({ type: 'link', value: url });
    last = m.index + url.length;
    URL_RE.lastIndex = last;
  }
  if (last < source.length) styled(source.slice(last), out);
  return out;
}

module.exports = { segments };
