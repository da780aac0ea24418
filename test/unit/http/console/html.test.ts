import { html, queryString } from '../../../../src/http/console/html';

describe('the html tag', () => {
  it('escapes every interpolated string, in text and in attributes', () => {
    const hostile = `<script>alert("x")</script>' onmouseover='x' &amp;`;
    expect(html`<td title="${hostile}">${hostile}</td>`.text).toBe(
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &amp;amp;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &amp;amp;</td>',
    );
  });

  it('keeps markup made by the tag, joins arrays, and drops null, undefined and false', () => {
    const items = ['<a>', 'b'].map((item) => html`<li>${item}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.text).toBe('<ul><li>&lt;a&gt;</li><li>b</li></ul>0');
  });

  it('does not trust a string that only looks like markup', () => {
    const fake = { text: '<b>' } as unknown as string;
    expect(html`${fake}`.text).toBe('[object Object]');
  });

  it('builds query strings with every part encoded, empty ones left out', () => {
    expect(queryString({ name: '*.a b&c', serial: '', after: undefined })).toBe('?name=*.a+b%26c');
    expect(queryString({})).toBe('');
  });
});
