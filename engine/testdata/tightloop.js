// A tight JavaScript loop (Node) doing the same work as the engine's
// BenchmarkTightLoop8x8, for comparing a JavaScript engine on this machine:
// node engine/testdata/tightloop.js
// A tight JS loop doing the same work as BenchmarkTightLoop8x8: 2→8→8→1 tanh,
// batch 10, lr 0.03, 500 train + 500 test, per epoch: shuffle, train, eval both.
const sizes = [2, 8, 8, 1];
const n = 500;
function circle(k) { const xs = new Float64Array(k*2), ys = new Float64Array(k); for (let i=0;i<k;i++){ const inner=i%2===0; const r = inner? Math.random()*2.5 : 3.5+Math.random()*1.5; const a=Math.random()*2*Math.PI; xs[2*i]=r*Math.sin(a); xs[2*i+1]=r*Math.cos(a); ys[i]= Math.hypot(xs[2*i],xs[2*i+1])<3?1:0;} return [xs,ys]; }
const [tx, ty] = circle(n), [vx, vy] = circle(n);
const W=[],B=[],GW=[],GB=[],Z=[],A=[],DZ=[];
for (let k=1;k<sizes.length;k++){ const m=sizes[k-1], o=sizes[k]; W.push(Float64Array.from({length:m*o},()=>Math.random()-0.5)); B.push(new Float64Array(o)); GW.push(new Float64Array(m*o)); GB.push(new Float64Array(o)); Z.push(new Float64Array(o)); A.push(new Float64Array(o)); DZ.push(new Float64Array(o)); }
function forward(x, off) { let inp=x, io=off; for (let k=0;k<W.length;k++){ const m=sizes[k], o=sizes[k+1], w=W[k], a=A[k]; for (let j=0;j<o;j++){ let s=B[k][j]; for(let i=0;i<m;i++) s+=w[j*m+i]*inp[io+i]; Z[k][j]=s; a[j]=Math.tanh(s);} inp=a; io=0;} return A[W.length-1][0]; }
const order = Int32Array.from({length:n},(_,i)=>i);
function epoch(){ for(let i=n-1;i>0;i--){const j=Math.floor(Math.random()*(i+1)); const t=order[i]; order[i]=order[j]; order[j]=t;}
  const L=W.length-1; let inb=0;
  for (let p=0;p<n;p++){ const idx=order[p]; const out=forward(tx,idx*2); DZ[L][0]=(out-ty[idx])*(1-out*out);
    for (let k=L;k>=0;k--){ const m=sizes[k]; const inp = k>0? A[k-1]: tx; const io = k>0? 0 : idx*2; const gw=GW[k], dz=DZ[k]; for (let j=0;j<sizes[k+1];j++){ const d=dz[j]; for(let i=0;i<m;i++) gw[j*m+i]+= d*inp[io+i]; GB[k][j]+=d; }
      if (k>0){ for (let i=0;i<m;i++){ let s=0; for (let j=0;j<sizes[k+1];j++) s+=W[k][j*m+i]*DZ[k][j]; const a=A[k-1][i]; DZ[k-1][i]=s*(1-a*a);} } }
    if (++inb===10 || p===n-1){ for (let k=0;k<W.length;k++){ for(let i=0;i<W[k].length;i++){W[k][i]-=0.03*GW[k][i]/inb; GW[k][i]=0;} for(let i=0;i<B[k].length;i++){B[k][i]-=0.03*GB[k][i]/inb; GB[k][i]=0;} } inb=0; } }
  let s=0; for(let i=0;i<n;i++){const d=forward(tx,i*2)-ty[i]; s+=0.5*d*d;} for(let i=0;i<n;i++){const d=forward(vx,i*2)-vy[i]; s+=0.5*d*d;} return s; }
for (let i=0;i<200;i++) epoch();
const t0=process.hrtime.bigint(); const E=2000; for (let i=0;i<E;i++) epoch(); const secs=Number(process.hrtime.bigint()-t0)/1e9;
console.log(`JS tight loop: ${(E*n/secs/1e6).toFixed(3)} M samples/s (${(secs/E*1000).toFixed(3)} ms/epoch)`);
