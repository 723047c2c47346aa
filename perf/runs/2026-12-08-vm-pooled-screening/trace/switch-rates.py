import sys
P=int(sys.argv[1])/1000; SUB=0.025
acc={}  # (count, subbucket) -> [req, time]
for f in sys.argv[2:]:
    rows=[tuple(map(float,l.split()[1:])) for l in open(f) if l.startswith('T ')]
    for a,b in zip(rows,rows[1:]):
        t0,r0=a[0],a[1]; t1,r1=b[0],b[1]
        if t0<0.2 or t1>rows[-1][0]-0.1: continue
        ph=int(t0/P); cnt=4 if ph%2==0 else 8
        if int(t1/P)!=ph: continue
        sb=int((t0-ph*P)/SUB)
        k=(cnt,sb); v=acc.setdefault(k,[0,0]); v[0]+=r1-r0; v[1]+=t1-t0
for cnt in (4,8):
    print(cnt, ' '.join(f"{int(acc[(cnt,s)][0]/acc[(cnt,s)][1]) if (cnt,s) in acc else 0:6d}" for s in range(int(P/SUB))))
