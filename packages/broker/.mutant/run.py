import subprocess, shutil, os, re, sys
exec(open('mutations.py').read())
base='/work/main/packages/broker'
only = [a for a in sys.argv[1:] if not a.startswith("--")]
results=[]
for name,f,old,new,tests in M:
    if only and not any(o in name for o in only): continue
    shutil.rmtree('src', ignore_errors=True); shutil.rmtree('test', ignore_errors=True)
    shutil.copytree(base+'/src','src'); shutil.copytree(base+'/test','test')
    p='src/'+f; s=open(p).read()
    if s.count(old)!=1: print(name, 'PATTERN COUNT', s.count(old)); continue
    open(p,'w').write(s.replace(old,new))
    files=['packages/broker/.mutant/test/%s.test.ts'%t for t in tests]
    out=subprocess.run(['npx','vitest','run','--config','packages/broker/.mutant/vitest.config.ts',*files],cwd='/work/main',capture_output=True,text=True,timeout=300).stdout
    out=re.sub(r'\x1b\[[0-9;]*m','',out)
    fails=[l.strip() for l in out.splitlines() if l.strip().startswith('×')]
    summary=[l.strip() for l in out.splitlines() if l.strip().startswith('Tests')]
    results.append((name, summary, fails))
    print(name, summary, fails, flush=True)
